# cqda container image: a build stage with the toolchain, then a `scratch` runtime stage that
# holds only the binary, the shared libraries it links, CA certificates, a passwd entry for the
# cqda user, and the default policies. No shell, no package manager. See docs/DEPLOYMENT.md.
#
#   docker build -t cqda:0.1.0 .
#   docker build --build-arg BASE_IMAGE=debian:12.15-slim --build-arg CQDA_UID=10001 .
#
# Where the base image cannot be pulled, scripts/make-base-image.sh makes it with debootstrap and
# tags it with the name below.

# The Debian 12 image both stages start from, pinned by its point release.
ARG BASE_IMAGE=debian:12.15-slim

FROM ${BASE_IMAGE} AS build
ARG APT_OPTIONS=""
ENV DEBIAN_FRONTEND=noninteractive
# Only what building the cqda binary needs (the tests and fuzzers build outside the image).
RUN apt-get ${APT_OPTIONS} update -q \
 && apt-get ${APT_OPTIONS} install -y -q --no-install-recommends \
      g++ make cmake ninja-build pkg-config binutils ca-certificates \
      nlohmann-json3-dev libvalijson-dev libspdlog-dev libfmt-dev libsodium-dev libre2-dev \
      libutf8proc-dev libzip-dev libpugixml-dev libsqlite3-dev libcli11-dev libssl-dev \
      libseccomp-dev libboost-dev \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb

# The same source gives the same binary: a fixed source path mapped away in the debug and
# macro strings, a fixed SOURCE_DATE_EPOCH, no timestamps in the archives (Debian's ar is
# deterministic), and a stripped result.
ENV SOURCE_DATE_EPOCH=0
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY src src
COPY schemas schemas
COPY data data
COPY policy policy
COPY fuzz fuzz
COPY bench bench
COPY examples/policy.json examples/codebook.json examples/roster.csv examples/cases.csv /src/examples/
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCQDA_TESTS=OFF \
      -DCMAKE_CXX_FLAGS="-ffile-prefix-map=/src=. -ffile-prefix-map=/build=." \
 && cmake --build /build --target cqda -j "$(nproc)" \
 && strip --strip-all -o /cqda /build/cqda

# The runtime file system, assembled as a folder: the binary, every library it loads (as the
# dynamic loader resolves them here), the loader itself, CA certificates where OpenSSL looks,
# the user and group, name-service settings, the policies and the mount points.
ARG CQDA_UID=10001
ARG CQDA_GID=10001
RUN set -eu; root=/rootfs; \
    install -D -m 0755 /cqda "$root/usr/bin/cqda"; \
    for lib in $(ldd /cqda | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u); do \
      real="$(readlink -f "$lib")"; install -D -m "$(stat -c %a "$real")" "$real" "$root$lib"; \
    done; \
    install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"; \
    mkdir -p "$root/usr/lib/ssl"; ln -s /etc/ssl/certs/ca-certificates.crt "$root/usr/lib/ssl/cert.pem"; \
    ln -s /etc/ssl/certs "$root/usr/lib/ssl/certs"; \
    printf 'root:x:0:0:root:/nonexistent:/usr/sbin/nologin\ncqda:x:%s:%s:cqda:/nonexistent:/usr/sbin/nologin\n' \
      "$CQDA_UID" "$CQDA_GID" > "$root/etc/passwd"; \
    printf 'root:x:0:\ncqda:x:%s:\n' "$CQDA_GID" > "$root/etc/group"; \
    printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"; \
    install -D -m 0644 policy/default.json "$root/usr/share/cqda/policy/default.json"; \
    install -D -m 0644 policy/ollama.json "$root/usr/share/cqda/policy/ollama.json"; \
    for f in policy.json codebook.json roster.csv cases.csv; do \
      install -D -m 0644 "examples/$f" "$root/usr/share/cqda/example/$f"; \
    done; \
    mkdir -p "$root/tmp" "$root/data/input" "$root/data/output" "$root/data/cache" "$root/run/secrets"; \
    chmod 1777 "$root/tmp"; \
    chown "$CQDA_UID:$CQDA_GID" "$root/data/output" "$root/data/cache"; \
    chmod 0700 "$root/data/output" "$root/data/cache"; \
    find "$root" -exec touch -h -d "@${SOURCE_DATE_EPOCH}" {} +

FROM scratch
ARG CQDA_VERSION=0.1.0
ARG CQDA_SOURCE=https://example.org/cqda
ARG CQDA_UID=10001
ARG CQDA_GID=10001
LABEL org.opencontainers.image.title="cqda" \
      org.opencontainers.image.description="Security-hardened qualitative data analysis server (MCP and batch)" \
      org.opencontainers.image.version="${CQDA_VERSION}" \
      org.opencontainers.image.source="${CQDA_SOURCE}" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /rootfs/ /
USER ${CQDA_UID}:${CQDA_GID}
WORKDIR /data/output
EXPOSE 8765
# No entrypoint: commands name the program, as on the host (`cqda serve ...`, `cqda run ...`).
ENV PATH=/usr/bin
CMD ["cqda", "--help"]
# No HEALTHCHECK here: the image also runs batch jobs and stdio sessions, which serve no HTTPS
# port. The Compose service defines its healthcheck (`cqda healthcheck`, no shell needed).
