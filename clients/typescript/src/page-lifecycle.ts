/** The little of the DOM this needs, so the package also type-checks and runs without it (Node). */
interface PageLike {
  document?: { visibilityState?: string, addEventListener: (type: string, listener: () => void) => void, removeEventListener: (type: string, listener: () => void) => void }
  addEventListener?: (type: string, listener: () => void) => void
  removeEventListener?: (type: string, listener: () => void) => void
}

/**
 * Calls `onHide` when the page is hidden or left (the last moment a browser reliably runs
 * code: `visibilitychange` to hidden, `pagehide`). Returns how to stop listening. No-op outside browsers.
 */
export function onPageHide (onHide: () => void): () => void {
  const page = globalThis as PageLike
  const doc = page.document
  if (doc === undefined || typeof page.addEventListener !== 'function') return () => {}
  const visibility = (): void => { if (doc.visibilityState === 'hidden') onHide() }
  doc.addEventListener('visibilitychange', visibility)
  page.addEventListener('pagehide', onHide)
  return () => {
    doc.removeEventListener('visibilitychange', visibility)
    page.removeEventListener?.('pagehide', onHide)
  }
}
