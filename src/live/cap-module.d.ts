/**
 * Types for the optional native module `cap` (npm cap 0.2.x, no bundled typings): only what
 * src/live/cap-source.ts uses. `cap` is CommonJS; `import('cap')` yields it as `default`.
 */
declare module 'cap' {
  import type { EventEmitter } from 'node:events';

  export interface CapDevice {
    name: string;
    description?: string;
    addresses: { addr: string; netmask?: string; broadaddr?: string }[];
    flags?: string;
  }

  export class Cap extends EventEmitter {
    constructor();
    /**
     * Opens `device` (snaplen 65535, promiscuous, immediate mode, 1 s timeout — all hard-coded),
     * sets `filter` and starts delivering packets into `buffer`. Returns the link type name
     * ('ETHERNET', 'LINKTYPE_LINUX_SLL', 'RAW', 'NULL', 'IEEE802_11_RADIO' or 'Unknown linktype N').
     * Throws on failure — and the object must then never be closed or garbage-collected.
     */
    open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
    close(): void;
    on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): this;
    static deviceList(): CapDevice[];
    static findDevice(ip?: string): string | undefined;
  }

  const mod: { Cap: typeof Cap };
  export default mod;
}
