# bondd on Debian 12: the same steps as scripts/setup.sh and scripts/demo.sh.
# DPDK needs privileges for hugepages and raw devices: docker run --privileged bondd
FROM debian:bookworm
ENV DEBIAN_FRONTEND=noninteractive PATH=/root/.cargo/bin:$PATH
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends ca-certificates curl \
 && curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component rustfmt,clippy
WORKDIR /src/bondd
COPY . .
RUN scripts/setup.sh build \
 && cargo build --release -p control \
 && install -m 0755 target/release/bondd /usr/local/bin/bondd
CMD ["bondd", "run"]
