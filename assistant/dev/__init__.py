"""Tools for developing and testing Apprentice; none of them run when a user asks something."""
