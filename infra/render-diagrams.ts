/**
 * `npm run diagrams`: renders docs/architecture/*.puml to the SVGs committed beside them, with the
 * PlantUML jar pinned in infra/plantuml/pom.xml (fetched once from Maven Central into
 * $TRIBUTARY_HOME/artifacts, like the stack's Kafka and QuestDB), then checks they are current.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ensurePlantuml } from './artifacts.ts';
import { findJava } from './java-tools.ts';
import { diagramProblems, diagramSources, diagramsDir, renderSvg } from './plantuml.ts';

const home = process.env.TRIBUTARY_HOME ?? join(homedir(), '.cache', 'tributary');
const log = (message: string): void => void process.stderr.write(`${message}\n`);
const { plantumlVersion, plantumlJar } = await ensurePlantuml(join(home, 'artifacts'), log);
const java = await findJava(process.env, 17, `PlantUML ${plantumlVersion}`);
const sources = await diagramSources(diagramsDir);
await renderSvg({ javaPath: java.javaPath, jar: plantumlJar, sources });
const problems = await diagramProblems(diagramsDir, plantumlVersion);
for (const problem of problems) log(problem);
process.stdout.write(`rendered ${sources.length} diagram(s) with PlantUML ${plantumlVersion}: ${sources.join(' ')}\n`);
process.exitCode = problems.length > 0 ? 1 : 0;
