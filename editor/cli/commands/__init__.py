"""One module per `lucid` subcommand; each exposes `register(subparsers)`."""
