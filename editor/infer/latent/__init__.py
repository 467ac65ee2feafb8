"""Latent editing: invert a face crop into a GAN, move it along edit directions, composite it back.

Why a package of small modules: the inversion, direction and composite code is generic over the
`Generator` protocol (`generator.py`), so StyleGAN2 (`stylegan2.py`, the main family) and the BEGAN
test generator (`began.py`) share one path. Files are opened only by `loaders.py` (safe loaders; the
NVIDIA network pickle goes through `nvidia_pickle.py`, which never runs the code inside it).

What the UI panel drives: `session.LatentSession` (invert → render(amounts) → apply), usually through
the "latent" task's actions (`editor.infer.tasks.latent`).
"""
