#!/bin/sh
# ValidateService hook of ec2-appspec.yml: check the release that has just
# started on this instance with bluegreen's `verify` command, until it
# answers 2xx or verify-timeout passes. The exit status is the hook's.
#
# --network host lets the container reach the application on the
# instance's loopback. Pin the image by digest in production
# (ghcr.io/bluegreen-dev/bluegreen-action@sha256:...).
set -eu

exec docker run --rm --network host \
  -e BLUEGREEN_VERIFY_URL=http://127.0.0.1:8080/healthz \
  -e BLUEGREEN_VERIFY_TIMEOUT=2m \
  ghcr.io/bluegreen-dev/bluegreen-action:v1 verify
