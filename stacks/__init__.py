"""The platform's Terraform stacks, one module per stack; `stacks.app.build_app` composes them."""
