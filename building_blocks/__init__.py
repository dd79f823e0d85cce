"""Reusable constructs with secure defaults (KMS keys, buckets, roles, grants, policy guard).

Importing this package first registers the lightweight provider package (see
provider_modules), so only the provider modules the constructs use are loaded.
"""

from building_blocks.provider_modules import install_lightweight_provider_package

install_lightweight_provider_package()
