"""The model runtime: requests, the worker service, the model store and the tasks. Imports no Qt.

Importing this package must stay cheap: torch is imported only by the modules that need it.
"""
