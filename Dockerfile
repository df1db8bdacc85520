# clip serve in a container: one static pure-Go binary (no cgo, no ONNX
# Runtime) on an empty base holding only what distroless/static holds (CA
# certificates, a non-root user 65532), running as that user. Models live
# in the /models volume (CLIP_HOME), downloaded on first start or mounted.
#
#   docker build -t clip .
#   docker run -p 8080:8080 -v clip-models:/models -e CLIP_SERVE_TOKEN=s3cret clip
#
# Only go.mod, go.sum, cmd/, pkg/ and scripts/container/ are copied, so
# testdata/ and bench-models/ never reach an image layer. Without a
# registry, `make image` builds the same image from `make build`'s binary
# (scripts/container/Containerfile; both lay the files out with scripts/container/rootfs.sh).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY pkg ./pkg
COPY scripts/container ./scripts/container
# The Makefile's flags, so `make image` and this build give the same bytes
# for the same stamp (CI checks it: scripts/ci/container-multistage.sh).
ARG VERSION=docker
ARG COMMIT=
ARG DATE=
RUN CGO_ENABLED=0 go build -tags nodynamic -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/clip ./cmd/clip \
 && sh scripts/container/rootfs.sh /image /out/clip

FROM scratch
COPY --from=build /image/fs /
# /models owned by the nonroot user, so a fresh named volume is writable.
COPY --from=build --chown=65532:65532 /image/owned /
ENV CLIP_HOME=/models SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
VOLUME ["/models"]
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/clip"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--log-format", "json"]
