/**
 * Quantities as an operator reads them, for the client's tables and the server's log lines.
 *
 * @module
 */

/** Bytes as an operator reads them, in powers of 1024: `812K`, `45.3M`, `1.20G`. */
export function formatBytes(bytes: number): string {
  const units = ["B", "K", "M", "G", "T"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${units[unit]}`;
}
