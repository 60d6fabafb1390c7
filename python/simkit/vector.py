"""SimkitVectorEnv: a gymnasium.vector.VectorEnv over the simkit engine.

Multi-agent envs (Foraging-v0, ``num_agents=N``): the vector env runs over every agent of every world,
batch-major as PufferLib and Madrona export them: row ``world * N + agent`` of observations, actions,
rewards and flags, so ``num_envs`` is worlds x N (``num_worlds`` and ``num_agents`` give the two). Seeds,
``reset_mask``, states and elapsed steps are per world.

Buffers: the engine writes observations, rewards and flags straight into numpy arrays this object owns
(no copies on the way). By default ``step``/``reset`` return fresh copies of them, so results stay valid
after the next call. With ``copy=False`` they return the persistent arrays themselves: zero-copy and
faster, but every ``step``/``reset`` overwrites them in place (copy what you keep).
"""

from __future__ import annotations

import functools
import secrets
import threading
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from simkit import _core
from simkit._checks import check_int, check_number
from simkit.api import check_env_id

_AUTORESET = {
    "next_step": AutoresetMode.NEXT_STEP,
    "same_step": AutoresetMode.SAME_STEP,
    "disabled": AutoresetMode.DISABLED,
}
_MAX_SEED = 2**64 - 1
_MAX_ELAPSED = 2**31 - 1  # the engine compares episode steps as int32 (one instruction per vector)
# Gymnasium 1.4's reset options of the classic-control envs, by the env parameter each sets:
# CartPole, MountainCar(Continuous), Acrobot take low/high; Pendulum x_init/y_init.
_RESET_OPTIONS = {"low": "reset_low", "high": "reset_high", "x_init": "x_init", "y_init": "y_init"}


def _autoreset_name(mode: str | AutoresetMode) -> str:
    if isinstance(mode, AutoresetMode):
        return next(name for name, member in _AUTORESET.items() if member is mode)
    if not isinstance(mode, str) or mode not in _AUTORESET:
        raise ValueError(f"autoreset_mode must be one of {sorted(_AUTORESET)} or a gymnasium AutoresetMode, got {mode!r}")
    return mode


def _entropy_seed() -> int:
    """A fresh seed from the OS, as Gymnasium seeds an env that is reset without one."""
    return secrets.randbits(64)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int (or a list of ints), got {type(seed).__name__}")
    if not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return int(seed)


def _one_call_at_a_time(method):
    """The engine and the output buffers are shared state: calls from several threads run one after
    another (the engine releases the GIL, so unguarded steps would interleave and lose updates). A
    closed env says so instead of failing on its released engine."""
    @functools.wraps(method)
    def serialized(self, *args, **kwargs):
        with self._lock:
            if self._sim is None:
                raise RuntimeError(f"{method.__name__}() called on a closed {self.env_id} env; make a new one")
            return method(self, *args, **kwargs)
    return serialized


class SimkitVectorEnv(gymnasium.vector.VectorEnv):
    """``num_envs`` copies of a registered simkit environment, stepped together by the engine.

    Args:
        env_id: a registered id (``simkit.list_envs()``).
        num_envs: number of environments.
        device: ``"auto"`` (CUDA when usable, else CPU), ``"cpu"`` or ``"cuda"``.
        seed: seed for the first ``reset()`` when it is called without one; ``None`` draws one from OS
            entropy, as Gymnasium does (read it back from ``np_random_seed`` to reproduce the run).
        autoreset_mode: ``"next_step"`` (Gymnasium's default), ``"same_step"`` or ``"disabled"``.
        precision: ``"float32"`` (fast) or ``"float64"`` (Gymnasium's arithmetic, bit for bit).
        max_episode_steps: truncation limit; ``None`` for the env's default, ``0`` for none.
        copy: return fresh arrays (True) or the persistent buffers (False).
        threads: CPU threads, 0 for every core (at most 4096).
        env_offset: global index of this batch's first env, for one slice of a run over several
            processes (``simkit.distributed.make_vec``): env i here draws what env ``env_offset + i``
            draws in one process with the same seed.
        total_envs: the envs of every process together (default ``env_offset + num_envs``); rollouts
            are cut into pieces by it, so their statistics merge to one process's bit for bit.
        **env_kwargs: env parameters by name (``param_names``), e.g. ``sutton_barto_reward=1``; for
            multi-agent envs ``num_agents`` (agents per world).
    """

    def __init__(
        self,
        env_id: str,
        num_envs: int,
        device: str = "auto",
        seed: int | None = None,
        autoreset_mode: str | AutoresetMode = "next_step",
        precision: str = "float32",
        max_episode_steps: int | None = None,
        copy: bool = True,
        threads: int = 0,
        env_offset: int = 0,
        total_envs: int | None = None,
        **env_kwargs: Any,
    ):
        check_env_id(env_id)
        num_envs = check_int("num_envs", num_envs, 1, _core.MAX_ENVS)
        env_offset = check_int("env_offset", env_offset, 0, _core.MAX_ENVS - num_envs)
        total_envs = check_int("total_envs", env_offset + num_envs if total_envs is None else total_envs,
                               env_offset + num_envs, _core.MAX_ENVS)
        threads = check_int("threads", threads, 0, _core.MAX_THREADS)
        if max_episode_steps is not None:
            max_episode_steps = check_int("max_episode_steps", max_episode_steps, 0, _MAX_ELAPSED)
        if device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}")
        if precision not in ("float32", "float64"):
            raise ValueError(f"precision must be 'float32' or 'float64', got {precision!r}")
        mode = _autoreset_name(autoreset_mode)
        info = _core.describe_env(env_id, precision)
        params = {}
        for name, value in env_kwargs.items():
            if name not in info["param_names"]:
                raise ValueError(f"unknown parameter {name!r} for {env_id}; known: {', '.join(info['param_names'])}")
            if name == "num_agents":
                params[name] = check_int("num_agents", value, 1, info["max_agents"])
            else:
                params[name] = check_number(f"parameter {name!r}", value)
        self._seed: int | tuple[int, ...] = _entropy_seed() if seed is None else _check_seed(seed)
        self._params = dict(zip(info["param_names"], info["param_defaults"])) | params  # as made

        self._lock = threading.Lock()
        self._sim = _core.Simulator(env_id, num_envs, device, precision, self._seed, threads,
                                    -1 if max_episode_steps is None else max_episode_steps, params, mode, bool(copy),
                                    env_offset, total_envs)
        self._info = self._sim.info
        self.env_id = env_id
        self.num_worlds = num_envs
        self.num_agents = self._info["num_agents"]
        num_envs *= self.num_agents  # rows: world * num_agents + agent
        self.num_envs = num_envs
        self.env_offset = env_offset
        self.total_envs = total_envs
        self.precision = precision
        self.device = self._sim.device
        self.simd_target = self._sim.simd_target  # CPU kernels' instruction set ("" on CUDA)
        self.copy = copy
        self._mode = mode
        self.metadata = {"autoreset_mode": _AUTORESET[mode], "render_modes": []}
        self.render_mode = None

        obs_dtype = np.dtype(self._info["obs_dtype"])
        low = np.asarray(self._info["obs_low"], dtype=np.float64)
        high = np.asarray(self._info["obs_high"], dtype=np.float64)
        if obs_dtype == np.float32:
            self.single_observation_space = spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
        else:
            self.single_observation_space = spaces.Box(low.astype(obs_dtype), high.astype(obs_dtype), dtype=obs_dtype)
        if self._info["discrete"]:
            self.single_action_space = spaces.Discrete(self._info["num_actions"])
            self._action_dtype = np.int32
        else:
            self.single_action_space = spaces.Box(
                np.float32(self._info["action_low"]), np.float32(self._info["action_high"]), shape=(1,), dtype=np.float32
            )
            self._action_dtype = np.float32 if precision == "float32" else np.float64
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)

        n, d = num_envs, tuple(self._info["obs_shape"])
        if len(d) > 1:
            self.single_observation_space = spaces.Box(low.reshape(d).astype(obs_dtype), high.reshape(d).astype(obs_dtype),
                                                       dtype=obs_dtype)
            self.observation_space = batch_space(self.single_observation_space, num_envs)
        reward_dtype = np.float32 if precision == "float32" else np.float64
        self._obs = np.zeros((n, *d), dtype=obs_dtype)
        self._reward = np.zeros(n, dtype=reward_dtype)
        self._terminated = np.zeros(n, dtype=np.uint8)
        self._truncated = np.zeros(n, dtype=np.uint8)
        same_step = mode == "same_step"
        self._final_obs = np.zeros((n, *d), dtype=obs_dtype) if same_step else None
        self._has_final = np.zeros(n, dtype=np.uint8) if same_step else None
        self._info_fields = list(self._info["info_fields"])
        self._info_dtypes = [np.dtype(name) for name in self._info["info_dtypes"]]
        self._info_values = np.zeros((n, len(self._info_fields)), dtype=np.float64) if self._info_fields else None
        # same_step: the info of the step each ended episode ended in (info itself is the new episode's)
        self._final_info_values = np.zeros_like(self._info_values) if same_step and self._info_fields else None
        self._actions = np.zeros(n if self._info["discrete"] else (n, 1), dtype=self._action_dtype)
        self._has_reset = False

    # ---- Gymnasium API ------------------------------------------------------------------------------

    @_one_call_at_a_time
    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        """Reset every env (or the envs in ``options["reset_mask"]``) and return ``(obs, info)``.

        ``info`` holds the env's info fields for every env, as ``step`` returns them (TicTacToe:
        ``action_mask``, int8 of shape (num_envs, 9), 1 where a move is legal; ``illegal``).

        ``seed``: an int seeds every env (env i draws from (seed, i)); a list gives each env its own
        seed; ``None`` continues the current random streams. ``options``: ``reset_mask`` (bool array of
        shape (num_worlds,)) and the env's Gymnasium reset options: ``low``/``high`` (CartPole,
        MountainCar, MountainCarContinuous, Acrobot) or ``x_init``/``y_init`` (Pendulum). As in
        Gymnasium's envs, they apply to this reset only (later resets and autoresets use the values
        make_vec was given, as SyncVectorEnv's autoresets do), and one given alone keeps the other's
        value. Unknown options raise ValueError.
        """
        seeds = self._seeds(seed)
        mask = None
        once = {}  # env parameters for this reset only
        if options:
            options = dict(options)
            mask = options.pop("reset_mask", None)
            if mask is not None:
                mask = np.asarray(mask)
                if mask.shape != (self.num_worlds,) or mask.dtype != np.bool_:
                    raise ValueError(f"options['reset_mask'] must be a bool array of shape ({self.num_worlds},), "
                                     f"got {mask.dtype} {mask.shape}")
                mask = np.ascontiguousarray(mask, dtype=np.uint8)
            once = self._params_from_options(options)
        if once:
            try:
                self._sim.set_params(once)  # checks them (low <= high) before anything changes
            except ValueError as e:
                raise ValueError(f"reset options {options}: {e}") from None
        try:
            self._sim.reset(seeds, mask, self._obs, self._info_values)
        finally:
            if once:
                self._sim.set_params({name: self._params[name] for name in once})
        if seed is not None:
            self._seed = seeds[0] if isinstance(seed, (int, np.integer)) else tuple(seeds)
        self._has_reset = True
        return self._out(self._obs), self._env_info(self._info_values) if self._info_fields else {}

    @_one_call_at_a_time
    def step(self, actions):
        """Step every env; returns ``(obs, rewards, terminated, truncated, info)`` with Gymnasium's semantics:
        ``info`` describes the observation returned (after a same_step or next_step autoreset, the new
        episode's); in same_step mode ``final_info`` holds the info of the ended episodes' last step."""
        if not self._has_reset:
            raise RuntimeError("step() called before reset(): call env.reset() first")
        self._actions[...] = self._checked_actions(actions)
        self._sim.step(self._actions, self._obs, self._reward, self._terminated, self._truncated,
                       self._final_obs, self._has_final, self._info_values, self._final_info_values)
        info: dict[str, Any] = {}
        if self._info_fields:
            info.update(self._env_info(self._info_values))
        if self._mode == "same_step":
            info.update(self._final_info())
        return (
            self._out(self._obs),
            self._out(self._reward),
            self._out(self._terminated.view(np.bool_)),
            self._out(self._truncated.view(np.bool_)),
            info,
        )

    def close_extras(self, **kwargs):
        with self._lock:
            self._sim = None

    # ---- simkit extras -------------------------------------------------------------------------------

    @property
    def np_random_seed(self) -> int | tuple[int, ...]:
        """The seed the envs draw from (Gymnasium's ``np_random_seed``): an int, or one per env after
        ``reset(seed=[...])``; ``reset(seed=env.np_random_seed)`` on a new env reproduces the run."""
        return self._seed

    @property
    def state_fields(self) -> list[str]:
        """Names of the columns of ``get_state()``."""
        return list(self._info["state_fields"])

    @_one_call_at_a_time
    def get_state(self) -> np.ndarray:
        """Every env's state as float64, shape (num_envs, len(state_fields)) (exact for every field)."""
        return self._sim.get_state()

    @_one_call_at_a_time
    def set_state(self, state, elapsed=None) -> None:
        """Overwrite every env's state (shape (num_envs, len(state_fields))) and optionally the steps
        taken in the current episode (shape (num_envs,), for truncation)."""
        state = np.asarray(state, dtype=np.float64)
        expected = (self.num_worlds, len(self._info["state_fields"]))
        if state.shape != expected:
            raise ValueError(f"state must have shape {expected}, got {state.shape}")
        if not np.all(np.isfinite(state)):
            raise ValueError("state contains NaN or inf")
        if elapsed is not None:
            elapsed = np.asarray(elapsed)
            if (elapsed.shape != (self.num_worlds,) or not np.issubdtype(elapsed.dtype, np.integer)
                    or np.any(elapsed < 0) or np.any(elapsed > _MAX_ELAPSED)):
                raise ValueError(f"elapsed must be integers in [0, {_MAX_ELAPSED}] with shape ({self.num_worlds},), "
                                 f"got {elapsed.dtype} {elapsed.shape}")
        self._sim.set_state(state)  # checks every value first (ValueError naming the row and field)
        if elapsed is not None:
            self._sim.set_elapsed(elapsed.astype(np.uint32))

    @_one_call_at_a_time
    def get_elapsed(self) -> np.ndarray:
        """Steps taken in each env's current episode."""
        return self._sim.get_elapsed()

    @_one_call_at_a_time
    def dlpack_outputs(self) -> dict:
        """The last step's obs, reward, terminated and truncated as DLPack-exportable objects, for
        ``torch.from_dlpack`` / ``jax.dlpack.from_dlpack`` without a copy. On CUDA they are the device
        buffers a kernel has written (after a reset only ``obs``; valid until the next step or reset),
        exported per the array API's ``__dlpack__(stream=, max_version=, dl_device=, copy=)``: the
        consumer's stream waits for the kernel that wrote them. On the CPU they are the numpy buffers
        of ``copy=False``.
        """
        device = self._sim.device_outputs()
        if device:
            return dict(device)
        return {
            "obs": self._obs,
            "reward": self._reward,
            "terminated": self._terminated.view(np.bool_),
            "truncated": self._truncated.view(np.bool_),
        }

    @_one_call_at_a_time
    def rollout(self, steps: int, chunk: int = 32) -> dict:
        """Run the built-in random policy for ``steps`` steps of every env (no host round trip) and
        return episode statistics; ended episodes restart in the same step."""
        return dict(self._sim.rollout(check_int("steps", steps, 0, 2**64 - 1), check_int("chunk", chunk, 1, _core.MAX_CHUNK)))

    # ---- helpers ------------------------------------------------------------------------------------

    def _out(self, array: np.ndarray) -> np.ndarray:
        return array.copy() if self.copy else array

    def _seeds(self, seed) -> list[int]:
        if seed is None:
            return [] if self._has_reset else [self._seed]
        if isinstance(seed, (list, tuple, np.ndarray)):
            if len(seed) != self.num_worlds:
                raise ValueError(f"seed list must have num_envs={self.num_worlds} entries (one per world), got {len(seed)}")
            return [_check_seed(s) for s in seed]
        return [_check_seed(seed)]

    def _params_from_options(self, options: dict) -> dict[str, float]:
        known = {key: name for key, name in _RESET_OPTIONS.items() if name in self._info["param_names"]}
        params = {}
        for key, value in options.items():
            if key not in known:
                raise ValueError(f"unknown reset option {key!r} for {self.env_id}; known: "
                                 f"{', '.join(['reset_mask', *known])}")
            params[known[key]] = check_number(f"reset option {key!r}", value)
        return params

    def _checked_actions(self, actions) -> np.ndarray:
        a = np.asarray(actions)
        n = self.num_envs
        if self._info["discrete"]:
            if a.shape != (n,):
                rows = f" (num_envs * num_agents = {self.num_worlds} * {self.num_agents})" if self.num_agents > 1 else ""
                raise ValueError(f"actions must have shape ({n},){rows} for {self.env_id}, got {a.shape}")
            if not np.issubdtype(a.dtype, np.integer):
                raise ValueError(f"actions must be integers for {self.env_id} (Discrete), got dtype {a.dtype}")
            k = self._info["num_actions"]
            if a.size and (a.min() < 0 or a.max() >= k):
                bad = int(np.flatnonzero((a < 0) | (a >= k))[0])
                raise ValueError(f"actions[{bad}] = {a[bad]} is outside the action space [0, {k})")
            return a
        if a.shape not in ((n, 1), (n,)):
            raise ValueError(f"actions must have shape ({n}, 1) for {self.env_id}, got {a.shape}")
        if not np.issubdtype(a.dtype, np.floating) and not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"actions must be floats for {self.env_id} (Box), got dtype {a.dtype}")
        a = a.reshape(n, 1)
        low, high = self._info["action_low"], self._info["action_high"]
        bad = ~((a >= low) & (a <= high))  # also true for NaN
        if np.any(bad):
            i = int(np.flatnonzero(bad.ravel())[0])
            raise ValueError(f"actions[{i}] = {a.ravel()[i]} is outside the action space [{low}, {high}] (or NaN)")
        return a

    def _info_arrays(self, values: np.ndarray) -> dict[str, np.ndarray]:
        """visit_info columns by name, in each field's engine dtype: ``action_mask[0..8]`` become one
        (num_envs, 9) int8 array, a single field one (num_envs,) array."""
        grouped: dict[str, list[int]] = {}
        for column, field in enumerate(self._info_fields):
            grouped.setdefault(field.split("[")[0], []).append(column)
        arrays = {}
        for name, columns in grouped.items():
            dtype = self._info_dtypes[columns[0]]
            single = len(columns) == 1 and "[" not in self._info_fields[columns[0]]
            arrays[name] = (values[:, columns[0]] if single else values[:, columns]).astype(dtype)
        return arrays

    def _env_info(self, values: np.ndarray) -> dict[str, np.ndarray]:
        """visit_info values as Gymnasium vector infos: name -> array, '_name' -> mask (all True)."""
        info = {}
        every = np.ones(self.num_envs, dtype=np.bool_)
        for name, array in self._info_arrays(values).items():
            info[name] = array
            info[f"_{name}"] = every
        return info

    def _final_info(self) -> dict[str, Any]:
        """same_step mode: final_obs/final_info for the envs whose episode ended in this step."""
        ended = self._has_final.astype(np.bool_)
        final_obs = np.empty(self.num_envs, dtype=object)
        final_info = {}
        if self._info_fields:
            for name, values in self._info_arrays(self._final_info_values).items():
                # As Gymnasium's SyncVectorEnv: values of the envs that ended, zeros elsewhere, masked by `ended`.
                final_info[name] = np.where(ended.reshape((-1,) + (1,) * (values.ndim - 1)), values, 0).astype(values.dtype)
                final_info[f"_{name}"] = ended.copy()
        for i in np.flatnonzero(ended):
            final_obs[i] = self._final_obs[i].copy()
        return {"final_obs": final_obs, "_final_obs": ended, "final_info": final_info, "_final_info": ended.copy()}


def make_vec(env_id: str, num_envs: int = 1, **kwargs: Any) -> SimkitVectorEnv:
    """Create ``num_envs`` copies of ``env_id`` as a Gymnasium vector env (see SimkitVectorEnv)."""
    return SimkitVectorEnv(env_id, num_envs, **kwargs)
