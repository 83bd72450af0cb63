"""medtune: the shared package behind the pipeline's stage scripts.

Every stage (data, train, evaluate, export, chat) imports its chat format, model registry,
config loader and file I/O from here, so those things exist exactly once.
"""

__version__ = "0.1.0"
