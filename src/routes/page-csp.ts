/**
 * The content security policy of popguard's own pages (the report page, the preference centre).
 * Each holds a credential in sessionStorage, so nothing but its own files may run in it and no string
 * may become markup: only this origin's script and style (nothing inline), fetches to this origin
 * only, no forms posted anywhere, Trusted Types for the DOM's HTML sinks (innerHTML and friends throw).
 * Framing: only by the given origins (none by default).
 */
export function pageCsp (frameAncestors: readonly string[] = []): { useDefaults: false, directives: Record<string, string[]> } {
  return {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      connectSrc: ["'self'"],
      imgSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'none'"],
      frameAncestors: frameAncestors.length === 0 ? ["'none'"] : [...frameAncestors],
      requireTrustedTypesFor: ["'script'"],
      trustedTypes: ["'none'"]
    }
  }
}
