"""e360's AWS deployment as an AWS CDK v2 app: constructs per component, stacks composing them,
per-environment configuration in `infra/environments/<env>.yaml`."""
