#!/usr/bin/env bash
# Builds the images tests and the demo run, with `docker import` from busybox-static:
# no registry is reachable here. busybox brings sh, httpd, nc, sleep and wget.
set -euo pipefail
image=${1:-helios/busybox:latest}
if docker image inspect "$image" >/dev/null 2>&1; then
    echo "image $image: present"; exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/www" "$root/etc"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
echo 'Hello from a Helios-deployed container' > "$root/www/index.html"
tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - "$image" >/dev/null
echo "image $image: built"
