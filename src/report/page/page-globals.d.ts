// What the report page's two scripts share on `window` (checked with report-errors.js and report-page.js).
interface Window {
  /** Errors the error hook caught before #js-errors existed; the main script writes them out. */
  __early?: string[];
}
