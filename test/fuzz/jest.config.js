/** The TypeScript fuzz targets (test/fuzz/ts): bounded, seeded mutation fuzzing of the toolchain's bundle parsers. */
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/fuzz/ts'],
  testMatch: ['**/*.fuzz.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/test/fuzz/tsconfig.json' }]
  },
  testTimeout: 10 * 60 * 1000
};
