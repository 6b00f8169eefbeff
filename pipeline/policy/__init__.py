"""The policy gate: conftest-compatible Rego evaluation, engines and reporters."""
