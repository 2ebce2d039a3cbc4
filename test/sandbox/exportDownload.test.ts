import request from 'supertest';
import { createWorkers } from '../../src/workers';
import { createHarness, type Harness } from '../support/harness';
import { pdfText } from '../support/pdf';

const NO_WHATSAPP = { WHATSAPP_APP_SECRET: undefined, WHATSAPP_VERIFY_TOKEN: undefined, WHATSAPP_ACCESS_TOKEN: undefined, WHATSAPP_PHONE_NUMBER_ID: undefined };

/** A byte-exact body for any content type (supertest buffers only some types). */
const binary = (res: any, done: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => done(null, Buffer.concat(chunks)));
};

describe('MY DATA in the sandbox', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness('sandboxexport', { env: NO_WHATSAPP });
  });
  afterAll(() => h.close());

  it('offers the PDF, then the JSON, each downloaded with its own type and name by the owning sandbox person only', async () => {
    const workers = createWorkers(h.deps);
    try {
      const waId = '15550100020';
      await request(h.app).post('/sandbox/api/messages').send({ waId, name: 'Ñandú Straße', text: 'MEINE DATEN' }).expect(202);
      await request(h.app).post('/sandbox/api/messages').send({ waId: '15550100021', name: 'Someone Else', text: 'hello' }).expect(202);
      await workers.drain();
      const conv = (await request(h.app).get('/sandbox/api/conversation').query({ waId })).body;
      const docs = conv.messages.filter((m: any) => m.body?.type === 'document').map((m: any) => m.body);
      const day = h.clock.now().toISOString().slice(0, 10);
      expect(docs.map((d: any) => d.document.filename)).toEqual([`my-data-${day}.pdf`, `my-data-${day}.json.txt`]);
      const [pdfDoc, jsonDoc] = docs;

      const pdf = await request(h.app).get(`/sandbox/exports/${pdfDoc.exportId}`).query({ waId }).buffer(true).parse(binary).expect(200);
      expect(pdf.headers['content-type']).toBe('application/pdf');
      expect(pdf.headers['content-disposition']).toBe(`attachment; filename=my-data-${day}.pdf`);
      expect((pdf.body as Buffer).subarray(0, 5).toString('latin1')).toBe('%PDF-');
      const read = await pdfText(pdf.body as Buffer);
      expect(read.text).toContain(h.deps.i18n.t('de', 'myData.pdf.title', { business: h.deps.config.business.name }));
      expect(read.text).toContain('Ñandú Straße');

      const json = await request(h.app).get(`/sandbox/exports/${jsonDoc.exportId}`).query({ waId }).buffer(true).parse(binary).expect(200);
      expect(json.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(json.headers['content-disposition']).toBe(`attachment; filename=my-data-${day}.json.txt`);
      expect(JSON.parse((json.body as Buffer).toString('utf8'))).toMatchObject({
        schemaVersion: 1,
        subject: { whatsappNumber: `+${waId}`, profileName: 'Ñandú Straße', language: 'de' },
      });

      // Without the owner's number, or with another sandbox person's, neither file is served.
      for (const d of docs) {
        await request(h.app).get(`/sandbox/exports/${d.exportId}`).expect(404);
        await request(h.app).get(`/sandbox/exports/${d.exportId}`).query({ waId: '15550100021' }).expect(404);
      }
    } finally {
      await workers.stop();
    }
  });
});
