-- Tells waiting API requests that a check finished, instead of having them poll the table.
CREATE FUNCTION devmentor_check_done() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('check_done', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER checks_done AFTER UPDATE OF status ON checks
    FOR EACH ROW WHEN (NEW.status = 'done' AND OLD.status IS DISTINCT FROM 'done')
    EXECUTE FUNCTION devmentor_check_done();
