import Budgets from './commands/budgets/index';
import BudgetsRm from './commands/budgets/rm';
import BudgetsSet from './commands/budgets/set';
import BudgetsUsage from './commands/budgets/usage';
import ConfigShow from './commands/config/index';
import ConfigSet from './commands/config/set';
import KeysCreate from './commands/keys/create';
import KeysGenerate from './commands/keys/generate';
import Keys from './commands/keys/index';
import KeysRevoke from './commands/keys/revoke';
import Kill from './commands/kill';
import Launch from './commands/launch';
import Login from './commands/login';
import Logs from './commands/logs';
import New from './commands/new';
import ProjectsArchive from './commands/projects/archive';
import Projects from './commands/projects/index';
import ProjectsShow from './commands/projects/show';
import ProjectsUpdate from './commands/projects/update';
import Resume from './commands/resume';
import Run from './commands/run';
import Runners from './commands/runners';
import RunnersShow from './commands/runners/show';
import Sessions from './commands/sessions/index';
import SessionsShow from './commands/sessions/show';
import SessionsTranscript from './commands/sessions/transcript';
import Status from './commands/status';
import Usage from './commands/usage';
import Watch from './commands/watch';
import Worktrees from './commands/worktrees/index';
import WorktreesRm from './commands/worktrees/rm';

/**
 * Every command by id, for oclif's `explicit` discovery strategy: the CLI has no package.json
 * of its own, so commands are listed here instead of found by a file pattern.
 */
export const COMMANDS = {
  budgets: Budgets,
  'budgets:rm': BudgetsRm,
  'budgets:set': BudgetsSet,
  'budgets:usage': BudgetsUsage,
  config: ConfigShow,
  'config:set': ConfigSet,
  keys: Keys,
  'keys:create': KeysCreate,
  'keys:generate': KeysGenerate,
  'keys:revoke': KeysRevoke,
  kill: Kill,
  launch: Launch,
  login: Login,
  logs: Logs,
  new: New,
  projects: Projects,
  'projects:archive': ProjectsArchive,
  'projects:show': ProjectsShow,
  'projects:update': ProjectsUpdate,
  resume: Resume,
  run: Run,
  runners: Runners,
  'runners:show': RunnersShow,
  sessions: Sessions,
  'sessions:show': SessionsShow,
  'sessions:transcript': SessionsTranscript,
  status: Status,
  usage: Usage,
  watch: Watch,
  worktrees: Worktrees,
  'worktrees:rm': WorktreesRm,
};
