/**
 * Text for SVG (XML 1.0) content and attributes: characters XML does not
 * allow (most control characters, lone surrogates) are dropped and markup
 * characters escaped, so guest-supplied names cannot break the document.
 * @example
 * svgText('Vec<u8> & "more"'); // 'Vec&lt;u8&gt; &amp; &quot;more&quot;'
 */
export function svgText(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
