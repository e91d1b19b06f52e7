/**
 * Cloud-init user data for a TorchServe GPU host, rendered by a pure function. ECS runs it as root
 * at first boot; it must stay within 16 KB before Base64 encoding (ECS user-data docs,
 * https://www.alibabacloud.com/help/doc-detail/52012.htm), which `renderUserData` enforces.
 *
 * Steps: use the NVIDIA driver if the image has one, else install it from NVIDIA's RHEL 8 repository
 * (Alibaba Cloud Linux 3 is RHEL 8 compatible [I]); install JDK 17 and TorchServe 0.12.0 (its last
 * release; the repository was archived in August 2025) in a venv; fetch the pinned .mar files from
 * OSS with the instance RAM role's temporary credentials (ECS metadata service); write a safe
 * config.properties (models/serving/config.properties): management, gRPC and the model API on
 * loopback or off, inference and metrics on the private address only, request limits; then run
 * TorchServe under systemd as an unprivileged user.
 *
 * Token authorisation is off on purpose: TorchServe 0.12's tokens are generated on the host and
 * expire after 60 minutes, which no client behind a load balancer can follow. The boundary is the
 * network instead: an internal NLB, and a security group that admits only the VPC.
 */

export const TORCHSERVE_VERSION = "0.12.0";
export const MAX_USER_DATA_BYTES = 16 * 1024;
export const PORTS = { inference: 8080, management: 8081, metrics: 8082 } as const;

export interface ServedModel {
  /** TorchServe model name (also the .mar file name). */
  readonly name: string;
  /** Object key of the .mar, e.g. models/embed/v1/embed.mar. */
  readonly key: string;
}

export interface UserDataInput {
  readonly region: string;
  readonly bucket: string;
  /** VPC endpoint of OSS, e.g. oss-cn-hangzhou-internal.aliyuncs.com. */
  readonly ossEndpoint: string;
  /** The instance RAM role, whose STS credentials the metadata service hands out. */
  readonly roleName: string;
  readonly models: readonly ServedModel[];
  /** Python packages besides TorchServe the handlers need, pinned. */
  readonly pipPackages: readonly string[];
}

const NAME = /^[a-z][a-z0-9-]{0,31}$/;
const KEY = /^models\/[A-Za-z0-9._/-]+\.mar$/;
const WORD = /^[A-Za-z0-9._:/=<>+-]+$/;

/** The config.properties TorchServe runs with; PRIVATE_IP is substituted on the host. */
export function configProperties(models: readonly ServedModel[]): string {
  return [
    `inference_address=http://PRIVATE_IP:${PORTS.inference}`,
    `management_address=http://127.0.0.1:${PORTS.management}`,
    `metrics_address=http://PRIVATE_IP:${PORTS.metrics}`,
    "grpc_inference_address=127.0.0.1",
    "grpc_management_address=127.0.0.1",
    "disable_token_authorization=true",
    "enable_model_api=false",
    "enable_envvars_config=false",
    "install_py_dep_per_model=false",
    "max_request_size=16777216",
    "max_response_size=16777216",
    "default_response_timeout=60",
    "default_workers_per_model=1",
    "model_store=/opt/torchserve/model-store",
    `load_models=${models.map((m) => `${m.name}.mar`).join(",")}`,
  ].join("\n");
}

export function renderUserData(input: UserDataInput): string {
  const problems = [
    ...input.models.filter((m) => !NAME.test(m.name) || !KEY.test(m.key)).map((m) => `model ${JSON.stringify(m)}`),
    ...[input.region, input.bucket, input.ossEndpoint, input.roleName, ...input.pipPackages]
      .filter((w) => !WORD.test(w))
      .map((w) => JSON.stringify(w)),
  ];
  if (input.models.length === 0) problems.push("no models to serve");
  if (problems.length > 0) throw new Error(`user data: unsafe or missing values: ${problems.join(", ")}`);

  const fetches = input.models.map((m) => `fetch ${m.key} /opt/torchserve/model-store/${m.name}.mar`).join("\n");
  const script = `#!/bin/bash
# TorchServe ${TORCHSERVE_VERSION} GPU host, rendered by components/serving/user-data.ts
set -euo pipefail
exec > >(tee -a /var/log/backbone-serving.log) 2>&1
MD=http://100.100.100.200/latest/meta-data
PRIVATE_IP=$(curl -sf $MD/private-ipv4)

if ! nvidia-smi >/dev/null 2>&1; then
  dnf install -y dnf-plugins-core kernel-devel-$(uname -r) kernel-headers-$(uname -r)
  dnf config-manager --add-repo https://developer.download.nvidia.com/compute/cuda/repos/rhel8/x86_64/cuda-rhel8.repo
  dnf module install -y nvidia-driver:550-dkms
  nvidia-smi
fi

dnf install -y java-17-openjdk-headless python3.11 python3.11-pip
id torchserve >/dev/null 2>&1 || useradd --system --home-dir /opt/torchserve --create-home torchserve
python3.11 -m venv /opt/torchserve/venv
/opt/torchserve/venv/bin/pip install --quiet torchserve==${TORCHSERVE_VERSION} torch-model-archiver==${TORCHSERVE_VERSION} oss2==2.19.1 ${input.pipPackages.join(" ")}
mkdir -p /opt/torchserve/model-store /opt/torchserve/logs

# Temporary credentials of the instance RAM role (${input.roleName}); it may read models/ only.
fetch() {
  /opt/torchserve/venv/bin/python - "$1" "$2" <<'PY'
import json, sys, urllib.request
import oss2
c = json.load(urllib.request.urlopen("http://100.100.100.200/latest/meta-data/ram/security-credentials/${input.roleName}"))
auth = oss2.StsAuth(c["AccessKeyId"], c["AccessKeySecret"], c["SecurityToken"])
oss2.Bucket(auth, "https://${input.ossEndpoint}", "${input.bucket}").get_object_to_file(sys.argv[1], sys.argv[2])
PY
}
${fetches}

cat > /opt/torchserve/config.properties <<'CONF'
${configProperties(input.models)}
CONF
sed -i "s/PRIVATE_IP/$PRIVATE_IP/g" /opt/torchserve/config.properties
chown -R torchserve:torchserve /opt/torchserve

cat > /etc/systemd/system/torchserve.service <<'UNIT'
[Unit]
Description=TorchServe ${TORCHSERVE_VERSION}
After=network-online.target
[Service]
User=torchserve
WorkingDirectory=/opt/torchserve
Environment=LOG_LOCATION=/opt/torchserve/logs METRICS_LOCATION=/opt/torchserve/logs
ExecStart=/opt/torchserve/venv/bin/torchserve --start --foreground --ts-config /opt/torchserve/config.properties --model-store /opt/torchserve/model-store --disable-token-auth
Restart=always
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now torchserve
`;
  const bytes = Buffer.byteLength(script, "utf8");
  if (bytes > MAX_USER_DATA_BYTES) {
    throw new Error(`user data is ${bytes} bytes; ECS accepts at most ${MAX_USER_DATA_BYTES} before Base64 encoding`);
  }
  return script;
}
