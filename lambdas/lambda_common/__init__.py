"""Code shared by every Lambda of the platform (packaged at the zip root as `lambda_common`)."""
