/**
 * Ids of the sandboxes that sessions of this process hold right now, so the orphan helpers never
 * count them as orphans.
 */
export const liveSandboxes = new Set<string>()
