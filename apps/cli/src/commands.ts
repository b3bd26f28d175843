import ConfigShow from './commands/config/index';
import ConfigSet from './commands/config/set';
import Kill from './commands/kill';
import Launch from './commands/launch';
import Login from './commands/login';
import New from './commands/new';
import ProjectsArchive from './commands/projects/archive';
import Projects from './commands/projects/index';
import ProjectsShow from './commands/projects/show';
import ProjectsUpdate from './commands/projects/update';
import Runners from './commands/runners';
import Status from './commands/status';
import Watch from './commands/watch';

/**
 * Every command by id, for oclif's `explicit` discovery strategy: the CLI has no package.json
 * of its own, so commands are listed here instead of found by a file pattern.
 */
export const COMMANDS = {
  config: ConfigShow,
  'config:set': ConfigSet,
  kill: Kill,
  launch: Launch,
  login: Login,
  new: New,
  projects: Projects,
  'projects:archive': ProjectsArchive,
  'projects:show': ProjectsShow,
  'projects:update': ProjectsUpdate,
  runners: Runners,
  status: Status,
  watch: Watch,
};
