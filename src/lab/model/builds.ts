/** Matching footprints to the server's build list. Pure, no DOM. */
import type { Footprint } from '../../common/types';
import type { BuildSummary } from '../api';

/**
 * Whether a listed build is the one a footprint came from: same image checksum when the
 * server reports it, else the same model, target and image size.
 */
export function isSameBuild(footprint: Footprint, build: BuildSummary): boolean {
  if (typeof build.image_sha256 === 'string' && build.image_sha256 !== '') {
    return build.image_sha256 === footprint.image.sha256;
  }
  return (
    build.model === footprint.model &&
    build.target === footprint.target &&
    build.image_bytes === footprint.image.bytes
  );
}

/** The build directory a footprint came from, or null when none (or several) match. */
export function findBuildOf(footprint: Footprint, builds: readonly BuildSummary[]): string | null {
  const matches = builds.filter(build => isSameBuild(footprint, build));
  return matches.length === 1 ? matches[0].build : null;
}

/** Builds to offer for a diff: every other build, newest first as listed. */
export function otherBuilds(footprint: Footprint, builds: readonly BuildSummary[]): BuildSummary[] {
  return builds.filter(build => !isSameBuild(footprint, build));
}
