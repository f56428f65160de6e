"""Fakes of the paid cloud services the tests cannot reach, each speaking the service's real wire protocol."""
