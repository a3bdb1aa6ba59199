/** The end-to-end test: a real `jupyter lab` driven by Debian's Chromium (minutes, not in `npm test`). */
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/e2e'],
  testMatch: ['**/*.e2e.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: '<rootDir>/test/e2e/tsconfig.json' }]
  },
  testTimeout: 20 * 60 * 1000
};
