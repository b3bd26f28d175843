import {
  budgetListReplySchema,
  budgetViewSchema,
  checkBudgetReplySchema,
  removeBudgetReplySchema,
  setBudgetReplySchema,
  usageSummaryReplySchema,
} from '@stratavore/contracts';

import { checkBudgetBodySchema, setBudgetBodySchema } from '../api/budgets.controller';
import { type Parameter, type RouteDoc } from './openapi-document';

const projectQuery: Parameter = {
  name: 'project',
  in: 'query',
  description: 'Project name or id',
  schema: { type: 'string' },
};
const budgetId: Parameter = {
  name: 'id',
  in: 'path',
  description: 'Budget id',
  schema: { type: 'string', format: 'uuid' },
};

/** The budget routes (docs/budgets.md). */
export const budgetRouteDocs: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/api/v1/budgets',
    tag: 'budgets',
    summary:
      'Budgets with their current period: limits, used, reserved, left, period end, status; with project, only those covering it (global and the project’s)',
    scope: 'viewer',
    parameters: [projectQuery],
    responses: { 200: { description: 'Budgets', schema: budgetListReplySchema } },
  },
  {
    method: 'put',
    path: '/api/v1/budgets',
    tag: 'budgets',
    summary:
      "Create the scope's budget or replace its whole configuration (fields left out take their defaults); a change of period, time zone or anchor re-baselines it",
    scope: 'admin',
    body: setBudgetBodySchema,
    responses: {
      200: { description: 'The budget, created or replaced', schema: setBudgetReplySchema },
    },
  },
  {
    method: 'delete',
    path: '/api/v1/budgets',
    tag: 'budgets',
    summary: 'Remove the budget of a scope: scope=global or project=<name or id>',
    scope: 'admin',
    parameters: [
      {
        name: 'scope',
        in: 'query',
        description: 'global (or give project instead)',
        schema: { type: 'string', enum: ['global'] },
      },
      projectQuery,
    ],
    responses: { 200: { description: 'Removed', schema: removeBudgetReplySchema } },
  },
  {
    method: 'post',
    path: '/api/v1/budgets/check',
    tag: 'budgets',
    summary:
      "Would a launch in the project be admitted now? The estimate defaults to the project's launch estimate; nothing is reserved",
    scope: 'viewer',
    body: checkBudgetBodySchema,
    responses: { 200: { description: 'The verdict', schema: checkBudgetReplySchema } },
  },
  {
    method: 'get',
    path: '/api/v1/budgets/usage',
    tag: 'budgets',
    summary:
      'Budget consumption: the budgets in view with their current periods, usage per project and local day, totals',
    scope: 'viewer',
    parameters: [
      projectQuery,
      {
        name: 'from',
        in: 'query',
        description: 'ISO 8601 start (inclusive); default: days before to',
        schema: { type: 'string', format: 'date-time' },
      },
      {
        name: 'to',
        in: 'query',
        description: 'ISO 8601 end (exclusive); default now',
        schema: { type: 'string', format: 'date-time' },
      },
      {
        name: 'days',
        in: 'query',
        description: 'Days back from to when from is not given (1..366, default 7)',
        schema: { type: 'integer', minimum: 1, maximum: 366 },
      },
      {
        name: 'timeZone',
        in: 'query',
        description: 'IANA zone days are cut in (default UTC)',
        schema: { type: 'string' },
      },
    ],
    responses: { 200: { description: 'Consumption', schema: usageSummaryReplySchema } },
  },
  {
    method: 'get',
    path: '/api/v1/budgets/{id}',
    tag: 'budgets',
    summary: 'One budget with its current period',
    scope: 'viewer',
    parameters: [budgetId],
    responses: { 200: { description: 'The budget', schema: budgetViewSchema } },
  },
  {
    method: 'delete',
    path: '/api/v1/budgets/{id}',
    tag: 'budgets',
    summary: 'Remove a budget by id',
    scope: 'admin',
    parameters: [budgetId],
    responses: { 200: { description: 'Removed', schema: removeBudgetReplySchema } },
  },
];
