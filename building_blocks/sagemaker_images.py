"""SageMaker's scikit-learn container images, per region.

AWS publishes the framework images from a different ECR account in each region (the SageMaker Python
SDK's image_uri_config/sklearn.json; the Terraform data source aws_sagemaker_prebuilt_ecr_image knows
the same table). The training scripts need only scikit-learn and numpy, so one version is pinned here:
bumping it is a one-line change, tested against the scripts by the container, not by this repo.
"""

from __future__ import annotations

SKLEARN_IMAGE_TAG = "1.2-1-cpu-py3"

# region -> account of the sagemaker-scikit-learn repository (commercial partition).
SKLEARN_IMAGE_ACCOUNTS = {
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
    "ca-central-1": "341280168497",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-west-3": "659782779980",
    "eu-central-1": "492215442770",
    "eu-north-1": "662702820516",
    "ap-south-1": "720646828776",
    "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "sa-east-1": "737474898029",
}


def sklearn_image_uri(region: str, tag: str = SKLEARN_IMAGE_TAG) -> str:
    """The scikit-learn image URI in `region`; ValueError naming the region when it is not in the table."""
    account = SKLEARN_IMAGE_ACCOUNTS.get(region)
    if account is None:
        known = ", ".join(sorted(SKLEARN_IMAGE_ACCOUNTS))
        raise ValueError(
            f"no SageMaker scikit-learn image account is known for region {region!r} (known: {known}); "
            "add it to building_blocks/sagemaker_images.py from the SageMaker SDK's image_uri_config/sklearn.json"
        )
    return f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-scikit-learn:{tag}"
