/**
 * Uploaded SVG logos, rebuilt from an allow-list (docs/adr/0401). The upload is parsed as
 * XML (@xmldom/xmldom: no DTD processing, no external entities); a document type, a root
 * that is not <svg> in the SVG namespace, or malformed XML is refused. Then only known
 * drawing elements and presentation attributes are kept: scripts, <style>, <foreignObject>,
 * animation, event handlers and any reference that leaves the document (href, url() to
 * anything but "#id") are dropped. The result is serialised anew, so nothing the parser
 * read differently from a browser survives as text.
 * Served with `Content-Security-Policy: default-src 'none'` as a second wall.
 */
import { DOMParser, XMLSerializer, type Element as XmlElement, type Node as XmlNode } from '@xmldom/xmldom';

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';

const ELEMENTS = new Set([
  'svg',
  'g',
  'defs',
  'symbol',
  'use',
  'title',
  'desc',
  'path',
  'rect',
  'circle',
  'ellipse',
  'line',
  'polyline',
  'polygon',
  'text',
  'tspan',
  'linearGradient',
  'radialGradient',
  'stop',
  'clipPath',
  'mask',
]);

const ATTRIBUTES = new Set([
  'id',
  'class',
  'viewBox',
  'width',
  'height',
  'x',
  'y',
  'x1',
  'x2',
  'y1',
  'y2',
  'cx',
  'cy',
  'r',
  'rx',
  'ry',
  'fx',
  'fy',
  'd',
  'points',
  'transform',
  'fill',
  'fill-opacity',
  'fill-rule',
  'clip-rule',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'stroke-linecap',
  'stroke-linejoin',
  'stroke-miterlimit',
  'stroke-dasharray',
  'stroke-dashoffset',
  'opacity',
  'color',
  'clip-path',
  'mask',
  'offset',
  'stop-color',
  'stop-opacity',
  'gradientUnits',
  'gradientTransform',
  'spreadMethod',
  'clipPathUnits',
  'maskUnits',
  'maskContentUnits',
  'preserveAspectRatio',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'text-anchor',
  'dominant-baseline',
  'letter-spacing',
  'dx',
  'dy',
  'style',
  'version',
  'role',
  'aria-label',
  'aria-hidden',
  'focusable',
]);

/** A value may point inside the document (url(#id)) and nowhere else. */
const URL_REFERENCE = /url\s*\(\s*(['"]?)\s*([^'")\s]*)/gi;
function onlyLocalReferences(value: string): boolean {
  for (const match of value.matchAll(URL_REFERENCE)) if (!match[2]!.startsWith('#')) return false;
  return !/(?:expression\s*\(|javascript:|@import|\\|<|behaviou?r\s*:|-moz-binding)/i.test(value);
}

export class UnsafeSvgError extends Error {}

function clean(element: XmlElement): void {
  for (const attribute of Array.from(element.attributes)) {
    const name = attribute.name;
    const value = attribute.value;
    const local = attribute.localName ?? name;
    let keep = false;
    if ((name === 'href' || (local === 'href' && attribute.namespaceURI === XLINK_NS)) && element.localName === 'use') {
      keep = /^#[\w.-]+$/.test(value.trim());
    } else if (name === 'xmlns' || name === 'xmlns:xlink') {
      keep = true;
    } else if (attribute.namespaceURI === null && ATTRIBUTES.has(name)) {
      keep = onlyLocalReferences(value);
    }
    if (!keep) element.removeAttributeNode(attribute);
  }
  for (const child of Array.from<XmlNode>(element.childNodes)) {
    if (child.nodeType === child.ELEMENT_NODE) {
      const childElement = child as XmlElement;
      if (childElement.namespaceURI === SVG_NS && ELEMENTS.has(childElement.localName ?? '')) clean(childElement);
      else element.removeChild(child);
    } else if (child.nodeType !== child.TEXT_NODE) {
      // comments, processing instructions, CDATA: dropped
      element.removeChild(child);
    }
  }
}

/** The sanitised SVG as UTF-8 text, or UnsafeSvgError saying why it cannot be a logo. */
export function sanitiseSvg(source: string): string {
  if (/<!DOCTYPE|<!ENTITY/i.test(source)) throw new UnsafeSvgError('An SVG with a document type or entities is not accepted.');
  let document;
  try {
    document = new DOMParser({
      onError(level, message) {
        if (level !== 'warning') throw new Error(message);
      },
    }).parseFromString(source, 'image/svg+xml');
  } catch {
    throw new UnsafeSvgError('The SVG is not well-formed XML.');
  }
  const root = document.documentElement;
  if (!root || root.localName !== 'svg' || root.namespaceURI !== SVG_NS) {
    throw new UnsafeSvgError('The file is not an SVG image (its root must be <svg> in the SVG namespace).');
  }
  clean(root);
  return new XMLSerializer().serializeToString(root);
}
