"""SimkitVectorEnv: a gymnasium.vector.VectorEnv over the simkit engine.

Buffers: the engine writes observations, rewards and flags straight into numpy arrays this object owns
(no copies on the way). By default ``step``/``reset`` return fresh copies of them, so results stay valid
after the next call. With ``copy=False`` they return the persistent arrays themselves: zero-copy and
faster, but every ``step``/``reset`` overwrites them in place (copy what you keep).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from simkit import _core
from simkit.api import check_env_id

_AUTORESET = {
    "next_step": AutoresetMode.NEXT_STEP,
    "same_step": AutoresetMode.SAME_STEP,
    "disabled": AutoresetMode.DISABLED,
}
_MAX_SEED = 2**64 - 1


def _autoreset_name(mode: str | AutoresetMode) -> str:
    if isinstance(mode, AutoresetMode):
        return mode.value
    if mode not in _AUTORESET:
        raise ValueError(f"autoreset_mode must be one of {sorted(_AUTORESET)} or a gymnasium AutoresetMode, got {mode!r}")
    return mode


def _check_count(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int (or a list of ints), got {type(seed).__name__}")
    if not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"seed must be in [0, 2**64), got {seed}")
    return int(seed)


class SimkitVectorEnv(gymnasium.vector.VectorEnv):
    """``num_envs`` copies of a registered simkit environment, stepped together by the engine.

    Args:
        env_id: a registered id (``simkit.list_envs()``).
        num_envs: number of environments.
        device: ``"auto"`` (CUDA when usable, else CPU), ``"cpu"`` or ``"cuda"``.
        seed: seed for the first ``reset()`` when it is called without one.
        autoreset_mode: ``"next_step"`` (Gymnasium's default), ``"same_step"`` or ``"disabled"``.
        precision: ``"float32"`` (fast) or ``"float64"`` (Gymnasium's arithmetic, bit for bit).
        max_episode_steps: truncation limit; ``None`` for the env's default, ``0`` for none.
        copy: return fresh arrays (True) or the persistent buffers (False).
        threads: CPU threads, 0 for every core.
        **env_kwargs: env parameters by name (``param_names``), e.g. ``sutton_barto_reward=1``.
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
        **env_kwargs: Any,
    ):
        check_env_id(env_id)
        num_envs = _check_count("num_envs", num_envs, 1)
        threads = _check_count("threads", threads, 0)
        if max_episode_steps is not None:
            max_episode_steps = _check_count("max_episode_steps", max_episode_steps, 0)
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
            params[name] = float(value)
        self._default_seed = None if seed is None else _check_seed(seed)

        self._sim = _core.Simulator(env_id, num_envs, device, precision, self._default_seed or 0, threads,
                                    -1 if max_episode_steps is None else max_episode_steps, params, mode)
        self._info = self._sim.info
        self.env_id = env_id
        self.num_envs = num_envs
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

        n, d = num_envs, self._info["obs_dim"]
        reward_dtype = np.float32 if precision == "float32" else np.float64
        self._obs = np.zeros((n, d), dtype=obs_dtype)
        self._reward = np.zeros(n, dtype=reward_dtype)
        self._terminated = np.zeros(n, dtype=np.uint8)
        self._truncated = np.zeros(n, dtype=np.uint8)
        same_step = mode == "same_step"
        self._final_obs = np.zeros((n, d), dtype=obs_dtype) if same_step else None
        self._has_final = np.zeros(n, dtype=np.uint8) if same_step else None
        self._info_fields = list(self._info["info_fields"])
        self._info_values = np.zeros((n, len(self._info_fields)), dtype=np.float64) if self._info_fields else None
        self._actions = np.zeros(n if self._info["discrete"] else (n, 1), dtype=self._action_dtype)
        self._has_reset = False

    # ---- Gymnasium API ------------------------------------------------------------------------------

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        """Reset every env (or the envs in ``options["reset_mask"]``) and return ``(obs, info)``.

        ``seed``: an int seeds every env (env i draws from (seed, i)); a list gives each env its own
        seed; ``None`` continues the current random streams. ``options``: ``reset_mask`` (bool array of
        shape (num_envs,)) and any env parameters (e.g. CartPole's ``low``/``high`` reset bounds map to
        ``reset_low``/``reset_high``), which persist for later autoresets as in Gymnasium.
        """
        seeds = self._seeds(seed)
        mask = None
        if options:
            options = dict(options)
            mask = options.pop("reset_mask", None)
            if mask is not None:
                mask = np.asarray(mask)
                if mask.shape != (self.num_envs,) or mask.dtype != np.bool_:
                    raise ValueError(f"options['reset_mask'] must be a bool array of shape ({self.num_envs},), "
                                     f"got {mask.dtype} {mask.shape}")
                mask = np.ascontiguousarray(mask, dtype=np.uint8)
            if options:
                self._sim.set_params(self._params_from_options(options))
        self._sim.reset(seeds, mask, self._obs)
        self._has_reset = True
        return self._out(self._obs), {}

    def step(self, actions):
        """Step every env; returns ``(obs, rewards, terminated, truncated, info)`` with Gymnasium's semantics."""
        if not self._has_reset:
            raise RuntimeError("step() called before reset(): call env.reset() first")
        self._actions[...] = self._checked_actions(actions)
        self._sim.step(self._actions, self._obs, self._reward, self._terminated, self._truncated,
                       self._final_obs, self._has_final, self._info_values)
        info: dict[str, Any] = {}
        if self._info_fields:
            info.update(self._env_info())
        if self._mode == "same_step":
            info.update(self._final_info(info))
        return (
            self._out(self._obs),
            self._out(self._reward),
            self._out(self._terminated.view(np.bool_)),
            self._out(self._truncated.view(np.bool_)),
            info,
        )

    def close_extras(self, **kwargs):
        self._sim = None

    # ---- simkit extras -------------------------------------------------------------------------------

    @property
    def state_fields(self) -> list[str]:
        """Names of the columns of ``get_state()``."""
        return list(self._info["state_fields"])

    def get_state(self) -> np.ndarray:
        """Every env's state as float64, shape (num_envs, len(state_fields)) (exact for every field)."""
        return self._sim.get_state()

    def set_state(self, state, elapsed=None) -> None:
        """Overwrite every env's state (shape (num_envs, len(state_fields))) and optionally the steps
        taken in the current episode (shape (num_envs,), for truncation)."""
        state = np.asarray(state, dtype=np.float64)
        expected = (self.num_envs, len(self._info["state_fields"]))
        if state.shape != expected:
            raise ValueError(f"state must have shape {expected}, got {state.shape}")
        if not np.all(np.isfinite(state)):
            raise ValueError("state contains NaN or inf")
        if elapsed is not None:
            elapsed = np.asarray(elapsed)
            if elapsed.shape != (self.num_envs,) or np.any(elapsed < 0):
                raise ValueError(f"elapsed must be non-negative with shape ({self.num_envs},)")
            self._sim.set_elapsed(elapsed.astype(np.uint32))
        self._sim.set_state(state)

    def get_elapsed(self) -> np.ndarray:
        """Steps taken in each env's current episode."""
        return self._sim.get_elapsed()

    def dlpack_outputs(self) -> dict:
        """The last step's obs, reward, terminated and truncated as DLPack-exportable objects, for
        ``torch.from_dlpack`` / ``jax.dlpack.from_dlpack`` without a copy. On CUDA they are the device
        buffers (valid until the next step); on the CPU they are the numpy buffers of ``copy=False``.
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

    def rollout(self, steps: int, chunk: int = 32) -> dict:
        """Run the built-in random policy for ``steps`` steps of every env (no host round trip) and
        return episode statistics; ended episodes restart in the same step."""
        return dict(self._sim.rollout(_check_count("steps", steps, 0), _check_count("chunk", chunk, 1)))

    # ---- helpers ------------------------------------------------------------------------------------

    def _out(self, array: np.ndarray) -> np.ndarray:
        return array.copy() if self.copy else array

    def _seeds(self, seed) -> list[int]:
        if seed is None:
            if self._default_seed is not None and not self._has_reset:
                return [self._default_seed]
            return []
        if isinstance(seed, (list, tuple, np.ndarray)):
            if len(seed) != self.num_envs:
                raise ValueError(f"seed list must have num_envs={self.num_envs} entries, got {len(seed)}")
            return [_check_seed(s) for s in seed]
        return [_check_seed(seed)]

    def _params_from_options(self, options: dict) -> dict[str, float]:
        aliases = {"low": "reset_low", "high": "reset_high"}
        params = {}
        for key, value in options.items():
            name = aliases.get(key, key)
            if name not in self._info["param_names"]:
                raise ValueError(f"unknown reset option {key!r} for {self.env_id}; known: reset_mask, "
                                 f"{', '.join(self._info['param_names'])}")
            params[name] = float(value)
        low, high = params.get("reset_low"), params.get("reset_high")
        if low is not None and high is not None and low > high:
            raise ValueError(f"reset option low={low} is greater than high={high}")
        return params

    def _checked_actions(self, actions) -> np.ndarray:
        a = np.asarray(actions)
        n = self.num_envs
        if self._info["discrete"]:
            if a.shape != (n,):
                raise ValueError(f"actions must have shape ({n},) for {self.env_id}, got {a.shape}")
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

    def _env_info(self) -> dict[str, np.ndarray]:
        """visit_info values as Gymnasium vector infos: name -> array, '_name' -> mask (all True)."""
        values = self._info_values
        grouped: dict[str, list[int]] = {}
        for column, field in enumerate(self._info_fields):
            grouped.setdefault(field.split("[")[0], []).append(column)
        info = {}
        every = np.ones(self.num_envs, dtype=np.bool_)
        for name, columns in grouped.items():
            array = values[:, columns[0]].copy() if len(columns) == 1 and "[" not in self._info_fields[columns[0]] \
                else values[:, columns].copy()
            info[name] = array
            info[f"_{name}"] = every
        return info

    def _final_info(self, info: dict) -> dict[str, Any]:
        """same_step mode: final_obs/final_info for the envs whose episode ended in this step."""
        ended = self._has_final.astype(np.bool_)
        final_obs = np.empty(self.num_envs, dtype=object)
        final_info = {k: v for k, v in info.items()}
        for i in np.flatnonzero(ended):
            final_obs[i] = self._final_obs[i].copy()
        return {"final_obs": final_obs, "_final_obs": ended, "final_info": final_info, "_final_info": ended.copy()}


def make_vec(env_id: str, num_envs: int = 1, **kwargs: Any) -> SimkitVectorEnv:
    """Create ``num_envs`` copies of ``env_id`` as a Gymnasium vector env (see SimkitVectorEnv)."""
    return SimkitVectorEnv(env_id, num_envs, **kwargs)
