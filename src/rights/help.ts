import type { MenuChoice } from '../messages/buttonIds';
import { outcome, type Outcome } from './outcome';

/** HELP: the rights on offer as an interactive list, with the business's contact and policy. */
export function help(): Outcome {
  const row = (choice: MenuChoice, name: string) => ({
    id: { kind: 'menu' as const, choice },
    titleKey: `help.${name}.title`,
    descriptionKey: `help.${name}.description`,
  });
  return outcome('help', {
    kind: 'list',
    key: 'help.body',
    buttonKey: 'help.button',
    sectionKey: 'help.section',
    rows: [row('stop', 'stop'), row('start', 'start'), row('my_data', 'myData'), row('delete', 'delete'), row('status', 'status'), row('language', 'language')],
  });
}
