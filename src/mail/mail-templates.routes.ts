/** /admin/pools/{pool}/mail-templates: the pool's own mails per kind and language, and a preview. */
import { poolRoute } from '../admin/pool-scope.js';
import { changeRecorder } from '../audit/audit.middleware.js';
import {
  mailKindParams,
  mailPreviewResponse,
  mailTemplateParams,
  mailTemplateResponse,
  mailTemplatesResponse,
  previewMailTemplateSchema,
  putMailTemplateSchema,
} from './mail-templates.schemas.js';
import type { MailTemplateService } from './mail-templates.service.js';

export function mailTemplateRoutes(templates: MailTemplateService) {
  return [
    poolRoute(
      { method: 'get', path: '/mail-templates', summary: "List the pool's mail templates", status: 200, response: mailTemplatesResponse },
      async function listMailTemplates(ctx) {
        return templates.listTemplates(ctx.state.pool.id);
      },
    ),
    poolRoute(
      {
        method: 'get',
        path: '/mail-templates/:kind/:language',
        summary: 'Get a mail template',
        params: mailTemplateParams,
        status: 200,
        response: mailTemplateResponse,
      },
      async function getMailTemplate(ctx, { params }) {
        return templates.getTemplate(ctx.state.pool.id, params.kind, params.language);
      },
    ),
    poolRoute(
      {
        method: 'put',
        path: '/mail-templates/:kind/:language',
        summary: 'Set a mail template ({{placeholders}}, no logic)',
        description: 'Placeholders are {{name}}; each kind of mail offers its own (see `placeholders` in the answer). Values are HTML-escaped in `html`.',
        params: mailTemplateParams,
        body: putMailTemplateSchema,
        status: 200,
        response: mailTemplateResponse,
      },
      async function putMailTemplate(ctx, { params, body }) {
        return templates.putTemplate(ctx.state.pool.id, params.kind, params.language, body, changeRecorder(ctx, 200));
      },
    ),
    poolRoute(
      {
        method: 'delete',
        path: '/mail-templates/:kind/:language',
        summary: 'Delete a mail template (Tarn’s own is sent again)',
        params: mailTemplateParams,
        status: 204,
      },
      async function deleteMailTemplate(ctx, { params }) {
        await templates.deleteTemplate(ctx.state.pool.id, params.kind, params.language, changeRecorder(ctx, 204));
      },
    ),
    poolRoute(
      {
        method: 'post',
        path: '/mail-templates/:kind/preview',
        summary: 'Render a mail with sample values: a draft given in the body, else the saved template, else Tarn’s own',
        params: mailKindParams,
        body: previewMailTemplateSchema,
        bodyOptional: true,
        status: 200,
        response: mailPreviewResponse,
      },
      async function previewMailTemplate(ctx, { params, body }) {
        return templates.preview(ctx.state.pool, params.kind, body);
      },
    ),
  ];
}
