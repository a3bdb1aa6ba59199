/** The MIME types of edgespec outputs (DESIGN.md "MIME types"). */
export const TRACE_MIME = 'application/vnd.edgespec.trace+json';
export const FOOTPRINT_MIME = 'application/vnd.edgespec.footprint+json';
export const RUN_MIME = 'application/vnd.edgespec.run+json';
