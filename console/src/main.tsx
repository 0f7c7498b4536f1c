import { lazy, StrictMode, Suspense, useCallback, useEffect, useMemo, useState, type ComponentType } from 'react';
import { createRoot } from 'react-dom/client';
import { credential, gql, messageOf } from './api.ts';
import { ConsoleCatalogDocument, ConsoleViewerDocument } from './generated/strata-console.ts';
import { FormatsContext, formatsFor, initialLocale, saveLocale, type Locale } from './locale.ts';
import type { Action } from './permissions.ts';
import { hrefOf, useRoute, type Screen } from './route.ts';
import { SessionContext, sessionMay, type Catalog, type Session, type Viewer } from './session.tsx';
import './styles.css';

// Each screen is a chunk of its own, loaded when first opened.
const SCREEN_VIEWS: Record<Screen, ComponentType> = {
  cockpit: lazy(() => import('./screens/cockpit.tsx')),
  explorer: lazy(() => import('./screens/explorer.tsx')),
  stewards: lazy(() => import('./screens/stewards.tsx')),
  audiences: lazy(() => import('./screens/audiences.tsx')),
  workbench: lazy(() => import('./screens/workbench.tsx')),
};

/** Which screens a role sees: each needs one of these actions (the catalog browser is for everyone). */
const SCREEN_ACTIONS: Record<Screen, readonly Action[]> = {
  cockpit: ['metrics.query', 'goals.read', 'dashboards.read'],
  explorer: ['catalog.read'],
  stewards: ['tags.draft', 'tags.review', 'tags.preview'],
  audiences: ['audiences.read', 'insight.read'],
  workbench: ['decisions.read', 'goals.read', 'experiments.results', 'monitors.read'],
};

const SCREEN_TITLES: Record<Screen, readonly [zh: string, en: string]> = {
  cockpit: ['驾驶舱', 'Cockpit'],
  explorer: ['指标探索', 'Metric explorer'],
  stewards: ['标签管理台', "Stewards' desk"],
  audiences: ['人群与洞察', 'Audiences & insight'],
  workbench: ['运营工作台', "Operators' workbench"],
};

function SignIn({ onSignedIn, problem }: { onSignedIn: (token: string) => void; problem: string | null }) {
  const [locale] = useState(initialLocale);
  const { tr } = formatsFor(locale, 'UTC');
  const [kind, setKind] = useState<'key' | 'jwt'>('key');
  const [token, setToken] = useState('');
  return (
    <main className="sign-in">
      <h1>Strata</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (token.trim()) onSignedIn(token.trim());
        }}
      >
        <fieldset>
          <legend>{tr('登录方式', 'Sign in with')}</legend>
          <label>
            <input type="radio" name="kind" checked={kind === 'key'} onChange={() => setKind('key')} /> {tr('API 密钥', 'API key')}
          </label>
          <label>
            <input type="radio" name="kind" checked={kind === 'jwt'} onChange={() => setKind('jwt')} /> JWT
          </label>
        </fieldset>
        <label htmlFor="credential">{kind === 'key' ? tr('API 密钥', 'API key') : 'JWT'}</label>
        {kind === 'key' ? (
          <input id="credential" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} />
        ) : (
          <textarea id="credential" rows={4} value={token} onChange={(e) => setToken(e.target.value)} />
        )}
        <p className="muted">
          {tr('凭据只保存在本标签页的会话存储中，关闭即清除。', 'The credential stays in this tab’s session storage and is gone when the tab closes.')}
        </p>
        <button type="submit">{tr('登录', 'Sign in')}</button>
        {problem ? (
          <p className="error" role="alert">
            {problem}
          </p>
        ) : null}
      </form>
    </main>
  );
}

interface Signed {
  readonly viewer: Viewer;
  readonly version: string;
  readonly catalog: Catalog;
}

function App() {
  const [locale, setLocale] = useState<Locale>(initialLocale);
  const [signed, setSigned] = useState<Signed | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [checking, setChecking] = useState(credential.read() !== null);
  const route = useRoute();

  const signIn = useCallback(async (token: string) => {
    setChecking(true);
    try {
      const { viewer, version } = await gql(ConsoleViewerDocument, {}, token);
      const { catalog } = await gql(ConsoleCatalogDocument, {}, token);
      credential.write(token);
      setProblem(null);
      setSigned({ viewer, version, catalog });
    } catch (error) {
      credential.clear();
      setProblem(messageOf(error));
      setSigned(null);
    } finally {
      setChecking(false);
    }
  }, []);

  useEffect(() => {
    const token = credential.read();
    if (token) void signIn(token);
  }, [signIn]);

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  const timeZone = signed?.catalog.models[0]?.timeZone ?? 'Asia/Shanghai';
  const formats = useMemo(() => formatsFor(locale, timeZone), [locale, timeZone]);

  const session = useMemo<Session | null>(() => {
    if (!signed) return null;
    return {
      ...signed,
      may: sessionMay(signed.viewer.role),
      refreshCatalog: async () => {
        const { catalog } = await gql(ConsoleCatalogDocument, {});
        setSigned((current) => (current ? { ...current, catalog } : current));
      },
      signOut: () => {
        credential.clear();
        setSigned(null);
        window.location.hash = '';
      },
    };
  }, [signed]);

  if (!session) {
    if (checking) return <main className="sign-in">…</main>;
    return (
      <FormatsContext.Provider value={formats}>
        <SignIn onSignedIn={(token) => void signIn(token)} problem={problem} />
      </FormatsContext.Provider>
    );
  }

  const visible = (Object.keys(SCREEN_VIEWS) as Screen[]).filter((screen) => SCREEN_ACTIONS[screen].some((action) => session.may(action)));
  const screen = route.screen && visible.includes(route.screen) ? route.screen : visible[0];
  const View = screen ? SCREEN_VIEWS[screen] : null;
  const { tr } = formats;

  return (
    <FormatsContext.Provider value={formats}>
      <SessionContext.Provider value={session}>
        <header className="top">
          <a className="brand" href={hrefOf(visible[0] ?? 'explorer')}>
            Strata
          </a>
          <nav aria-label={tr('主导航', 'Main')}>
            {visible.map((s) => (
              <a key={s} href={hrefOf(s)} aria-current={s === screen ? 'page' : undefined} data-screen={s}>
                {tr(...SCREEN_TITLES[s])}
              </a>
            ))}
          </nav>
          <div className="who">
            <label className="locale">
              <span className="sr-only">{tr('语言', 'Language')}</span>
              <select
                value={locale}
                onChange={(e) => {
                  const next = e.target.value as Locale;
                  saveLocale(next);
                  setLocale(next);
                }}
              >
                <option value="zh-CN">中文</option>
                <option value="en">English</option>
              </select>
            </label>
            <span data-testid="viewer">
              {session.viewer.name} · {session.viewer.role}
            </span>
            <button type="button" onClick={session.signOut}>
              {tr('退出', 'Sign out')}
            </button>
          </div>
        </header>
        <main id="main">
          {screen ? <h1 className="screen-title">{tr(...SCREEN_TITLES[screen])}</h1> : null}
          <Suspense fallback={<p className="muted">…</p>}>{View ? <View key={screen} /> : null}</Suspense>
        </main>
      </SessionContext.Provider>
    </FormatsContext.Provider>
  );
}

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
