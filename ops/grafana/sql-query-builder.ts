/**
 * A query of Grafana's PostgreSQL datasource (QuestDB over its PG wire): the foundation SDK has no
 * SQL query type, so this is the custom Dataquery variant its README describes.
 */
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';

interface SqlQuery extends Dataquery {
  rawSql: string;
  format: 'table' | 'time_series';
  editorMode: 'code';
  rawQuery: true;
  refId?: string;
}

export class SqlQueryBuilder implements Builder<Dataquery> {
  private readonly query: SqlQuery;

  constructor(rawSql: string, format: SqlQuery['format'] = 'table') {
    this.query = { rawSql, format, editorMode: 'code', rawQuery: true, _implementsDataqueryVariant() {} };
  }

  build(): SqlQuery {
    return this.query;
  }

  refId(refId: string): this {
    this.query.refId = refId;
    return this;
  }
}
