"""The soundscape workflow's audio team: tools that make clips and supervisors that measure
them, registered in `orchestrator.workflows.tools` as lazy "module:Class" entries.

- `event`: a timeline event's fields (start, end, volume, description, text), checked.
- `clip`: the clip format (mono WAV at SAMPLE_RATE), reading, writing under its sha256.
- `loudness`: integrated loudness in LUFS (pyloudnorm) and fitting a clip to a target.
- `espeak`: the `espeak` tool (speech through the espeak-ng binary).
- `synthesis`: numpy building blocks (seeded noise, band filters, envelopes).
- `sfx` (over `sfx_recipes`), `music`: the `numpy_sfx` and `numpy_music` tools.
- `supervisors`: the measuring `duration`, `loudness` and `signal` supervisors.
- `mix`, `waveform`: assembly (the mixed WAV and the PNG of the timeline).
"""
