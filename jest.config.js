/** jest runs the TypeScript tests in test/ts (toolchain and common, later the lab's data logic). */
const esmPackages = ['d3', 'd3-.*', 'internmap', 'delaunator', 'robust-predicates'].join('|');
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/ts'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
    '^.+\\.m?jsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages})/)`],
  testTimeout: 600000
};
