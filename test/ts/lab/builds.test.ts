import type { BuildSummary } from '../../../src/lab/api';
import { findBuildOf, isSameBuild, otherBuilds } from '../../../src/lab/model/builds';
import { sampleFootprint } from './fixtures';

const summary = (overrides: Partial<BuildSummary>): BuildSummary => ({
  build: 'b/build/qemu-virt',
  model: 'tiny_cnn',
  target: 'qemu-virt',
  image_bytes: 10000,
  modified: '2026-11-24T20:00:00Z',
  has_run: false,
  ...overrides
});

describe('finding the build of a footprint', () => {
  const footprint = sampleFootprint();

  it('matches on the image checksum when the server reports it', () => {
    expect(isSameBuild(footprint, summary({ image_sha256: 'a'.repeat(64) }))).toBe(true);
    // same model, target and size but another image
    expect(isSameBuild(footprint, summary({ image_sha256: 'b'.repeat(64) }))).toBe(false);
  });

  it('falls back to model, target and image size without a checksum', () => {
    expect(isSameBuild(footprint, summary({}))).toBe(true);
    expect(isSameBuild(footprint, summary({ image_bytes: 10001 }))).toBe(false);
    expect(isSameBuild(footprint, summary({ target: 'host' }))).toBe(false);
  });

  it('names the build only when exactly one matches, and lists the others for a diff', () => {
    const builds = [summary({ build: 'x/build/qemu-virt' }), summary({ build: 'y/build/host', target: 'host' })];
    expect(findBuildOf(footprint, builds)).toBe('x/build/qemu-virt');
    expect(findBuildOf(footprint, [...builds, summary({ build: 'z/build/qemu-virt' })])).toBeNull();
    expect(otherBuilds(footprint, builds).map(build => build.build)).toEqual(['y/build/host']);
  });
});
