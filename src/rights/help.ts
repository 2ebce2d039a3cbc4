import { outcome, type Outcome } from './outcome';

/** HELP: the rights on offer as an interactive list, with the business's contact and policy. */
export function help(): Outcome {
  const row = (id: string, name: string) => ({ id, titleKey: `help.${name}.title`, descriptionKey: `help.${name}.description` });
  return outcome('help', {
    kind: 'list',
    key: 'help.body',
    buttonKey: 'help.button',
    sectionKey: 'help.section',
    rows: [row('help.stop', 'stop'), row('help.start', 'start'), row('help.my_data', 'myData'), row('help.delete', 'delete'), row('help.status', 'status'), row('help.language', 'language')],
  });
}
