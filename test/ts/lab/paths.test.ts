import { basename, defaultBuildDir, describeBuild, isBuildOf, normalisePath, resolveOutputPath, samePlace } from '../../../src/lab/model/paths';

describe('paths', () => {
  it('normalises . and .. but keeps .. that climbs above the start for the server to refuse', () => {
    expect(normalisePath('a/./b//c/')).toBe('a/b/c');
    expect(normalisePath('a/b/../c')).toBe('a/c');
    expect(normalisePath('../x')).toBe('../x');
    expect(normalisePath('a/../../x')).toBe('../x');
    expect(normalisePath('/srv/../x')).toBe('/x');
  });

  it('resolves a bundle path from an output against the notebook directory', () => {
    expect(resolveOutputPath('edgespec-bundles/m', 'examples/walkthrough.ipynb')).toBe('examples/edgespec-bundles/m');
    expect(resolveOutputPath('edgespec-bundles/m', 'top.ipynb')).toBe('edgespec-bundles/m');
    expect(resolveOutputPath('./b/../m', null)).toBe('m');
    expect(resolveOutputPath('/home/u/work/m', 'examples/x.ipynb')).toBe('/home/u/work/m');
  });

  it('relates builds to bundles, absolute or root-relative', () => {
    expect(defaultBuildDir('ex/edgespec-bundles/m/', 'qemu-virt')).toBe('ex/edgespec-bundles/m/build/qemu-virt');
    expect(isBuildOf('ex/edgespec-bundles/m/build/host', 'ex/edgespec-bundles/m')).toBe(true);
    expect(isBuildOf('ex/edgespec-bundles/m/build/host', '/home/u/ex/edgespec-bundles/m')).toBe(true);
    expect(isBuildOf('ex/edgespec-bundles/m2/build/host', 'ex/edgespec-bundles/m')).toBe(false);
    expect(isBuildOf('ex/edgespec-bundles/m/build/host/x', 'ex/edgespec-bundles/m')).toBe(false);
    expect(samePlace('/root/a/b', 'a/b')).toBe(true);
    expect(samePlace('/root/xa/b', 'a/b')).toBe(false);
    expect(samePlace('/a', '/b')).toBe(false);
    expect(basename('a/b/c/')).toBe('c');
    expect(describeBuild('ex/edgespec-bundles/m/build/qemu-virt/')).toBe('m · qemu-virt');
    expect(describeBuild('out/x')).toBe('x');
    expect(describeBuild('ex/edgespec-bundles/m/build/host-int8')).toBe('m · host-int8');
    expect(isBuildOf('ex/edgespec-bundles/m/build/qemu-virt-int8', 'ex/edgespec-bundles/m')).toBe(true);
  });
});
