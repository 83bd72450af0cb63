"""The work behind stages/gpu_bundle.py (its docstring says how to use it): `here` builds the bundle and
assembles what came back, `there` receives, unpacks and sends on the GPU machine, `runs` runs stages there.

The GPU machine runs the script with its bare python3 before anything is installed, so every module here
imports only the standard library and medtune's standard-library modules at the top; what needs more
(pydantic configs, the model registry) is imported inside the function that uses it.
"""
