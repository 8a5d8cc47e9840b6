from django.db import migrations

TRIGGER = """
CREATE FUNCTION search_doc_tidy() RETURNS trigger AS $$
BEGIN
    NEW.title := trim(NEW.title);
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER search_doc_tidy BEFORE INSERT OR UPDATE ON search_doc
    FOR EACH ROW EXECUTE FUNCTION search_doc_tidy();
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]
    operations = [
        migrations.RunSQL(
            "CREATE VIEW search_doc_titles AS SELECT id, title FROM search_doc",
            "DROP VIEW search_doc_titles",
        ),
        migrations.RunSQL(
            TRIGGER,
            "DROP TRIGGER search_doc_tidy ON search_doc; DROP FUNCTION search_doc_tidy();",
        ),
        # Zero-downtime deploys: old code inserting without a body keeps working.
        migrations.RunSQL(
            "ALTER TABLE search_doc ALTER COLUMN body SET DEFAULT ''",
            "ALTER TABLE search_doc ALTER COLUMN body DROP DEFAULT",
        ),
    ]
