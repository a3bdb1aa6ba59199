/** What `edgespec doctor` and requireTool say of each external tool; its own file so that the per-target checks (efi/, linuxVm/) need not import tools.ts. */
/** The external tools edgespec needs; `build` and `run` ask for them with requireTool to fail early. */
export type ToolId = 'python' | 'torch' | 'edgespec-python' | 'aarch64-gcc' | 'picolibc' | 'qemu-system-aarch64' | 'qemu-aarch64' | 'node' | 'linux-source' | 'debian-arm64-kernel' | 'dosfstools' | 'mtools' | 'efi-firmware' | 'aarch64-objcopy';

export const TOOL_IDS: ToolId[] = ['python', 'torch', 'edgespec-python', 'aarch64-gcc', 'picolibc', 'qemu-system-aarch64', 'qemu-aarch64', 'node', 'linux-source', 'debian-arm64-kernel', 'dosfstools', 'mtools', 'efi-firmware', 'aarch64-objcopy'];

export interface ToolStatus {
  id: ToolId;
  /** What the tool is, as a person would say it ("cross compiler"). */
  label: string;
  found: boolean;
  required: boolean;
  version?: string;
  path?: string;
  /** The command that installs the tool. */
  install: string;
  /** Why it counts as missing, or how it was chosen. */
  detail?: string;
}
