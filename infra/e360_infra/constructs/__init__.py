"""One construct per component of the deployment."""
