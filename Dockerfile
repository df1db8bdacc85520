# clip serve in a container: one static pure-Go binary (no cgo, no ONNX
# Runtime) on distroless/static, running as a non-root user. Models live in
# the /models volume (CLIP_HOME), downloaded on first start or mounted.
#
#   docker build -t clip .
#   docker run -p 8080:8080 -v clip-models:/models -e CLIP_SERVE_TOKEN=s3cret clip
#
# Only go.mod, go.sum, cmd/ and pkg/ are copied, so testdata/ and
# bench-models/ never reach an image layer.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY pkg ./pkg
ARG VERSION=docker
RUN CGO_ENABLED=0 go build -tags nodynamic -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/clip ./cmd/clip \
 && mkdir -p /out/models

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/clip /usr/local/bin/clip
# Owned by the nonroot user (65532), so a fresh named volume is writable.
COPY --from=build --chown=65532:65532 /out/models /models
ENV CLIP_HOME=/models
VOLUME ["/models"]
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/clip"]
CMD ["serve", "--addr", "0.0.0.0:8080", "--log-format", "json"]
