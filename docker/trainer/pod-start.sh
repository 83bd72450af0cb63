#!/usr/bin/env bash
# Start command of the trainer image on a RunPod pod: an unprivileged sshd on port 2222 that lets the
# launcher (runpod/launch.py) copy data in, run the stage and copy artifacts out. The key is the
# user's public key, passed by the launcher in PUBLIC_KEY. Runs as the image's non-root user.
set -euo pipefail
: "${PUBLIC_KEY:?PUBLIC_KEY (an ssh public key) must be set}"
state=/tmp/sshd
mkdir -p "$state" "$HOME/.ssh"
chmod 700 "$HOME/.ssh"
printf '%s\n' "$PUBLIC_KEY" > "$HOME/.ssh/authorized_keys"
chmod 600 "$HOME/.ssh/authorized_keys"
ssh-keygen -q -t ed25519 -N '' -f "$state/host_key"
cat > "$state/sshd_config" <<CONF
Port 2222
HostKey $state/host_key
PidFile $state/sshd.pid
AuthorizedKeysFile $HOME/.ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CONF
# Pod environment (paths, tokens) for the ssh sessions, which start with a clean environment.
export -p | grep -E ' (PATH|PYTHONPATH|MEDTUNE_[A-Z_]*|HF_[A-Z_]*|HOME|TOKENIZERS_PARALLELISM)=' > "$HOME/.medtune-env"
echo "source $HOME/.medtune-env" > "$HOME/.bashrc"
exec /usr/sbin/sshd -D -e -f "$state/sshd_config"
