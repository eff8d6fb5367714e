# The bluegreen image: a static binary on an empty base. GitHub builds this
# file for `runs.image: Dockerfile`; releases publish the same image to GHCR
# so that action.yml can point at it by digest instead.
#
# scripts/build-image assembles the same final stage without a Docker daemon,
# and scripts/check-image inspects it; keep the three in step.

# ---- build -----------------------------------------------------------------
# The build stage runs on the builder's own platform and cross-compiles, so a
# multi-platform release needs no emulation. BuildKit sets BUILDPLATFORM,
# TARGETOS and TARGETARCH; left empty, Go builds for the host.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS TARGETARCH
# The version `bluegreen --version`, the step summary and the JSON result
# show. The release workflow passes the tag; scripts/build-image passes
# `git describe`. The build context holds no .git (see .dockerignore), so a
# build without the argument, as the runner's for `runs.image: Dockerfile`,
# says dev.
ARG VERSION=dev

WORKDIR /src

# Dependencies first, so that a change to the code alone reuses this layer.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
# Static (no cgo), reproducible paths, no symbol tables: a small binary that
# runs on scratch.
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -X main.version=$VERSION" -o /bluegreen .

# ---- debug: the same image plus a static busybox ----------------------------
# For CIs that run a job's script with a shell inside the job's image (GitLab's
# `image:`, CircleCI's docker executor). Published as :vX-debug, the convention
# of the go-containerregistry and kaniko images: busybox and its applets in
# /busybox, first on PATH, the entrypoint unchanged. Build it with
# `--target debug`; the default target is the final stage below.
#
# The applet links are made on the build platform (no emulation needed), the
# busybox binary is the target platform's; the musl variant is static.
FROM --platform=$BUILDPLATFORM busybox:1.37-musl AS busybox-links
RUN mkdir -p /out/busybox && for applet in $(busybox --list); do ln -s busybox "/out/busybox/$applet"; done

FROM busybox:1.37-musl AS busybox

FROM scratch AS debug
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /bluegreen /bluegreen
COPY --from=busybox-links /out/busybox /busybox
COPY --from=busybox /bin/busybox /busybox/busybox
ENV PATH=/busybox:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
ENTRYPOINT ["/bluegreen"]

# ---- final -----------------------------------------------------------------
# The last stage, so that the runner's build of `runs.image: Dockerfile` and
# a plain `docker build` give this image.
FROM scratch

# Root CAs for the Kubernetes API, cloud APIs and registries over TLS.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /bluegreen /bluegreen

# No USER: the runner mounts the workspace and its file commands
# ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY) owned by root, and a non-root user
# could not write the outputs or the summary.
#
# Exec form, and no shell in the image: the runner passes inputs as
# INPUT_WAIT-TIMEOUT, and sh drops variables whose names hold a hyphen.
ENTRYPOINT ["/bluegreen"]
